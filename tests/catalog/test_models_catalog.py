"""The model table: every row loads, counts match the cards, names resolve to the right model.

The exact counts below are worked by hand from the architecture (norms and biases left out, as
in `catalog/models.py`); they are not re-computed through the code under test.
"""

import re

import pytest

from infercost.catalog.models import model, models
from infercost.errors import UnknownNameError

REQUIRED_IDS = [
    "gpt3-175b",
    "gpt-j-6b",
    "llama-2-7b",
    "llama-2-13b",
    "llama-2-70b",
    "llama-3-8b",
    "llama-3-70b",
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "llama-3.3-70b",
    "mixtral-8x7b",
    "deepseek-v3",
    "deepseek-r1",
    "qwen3-30b-a3b",
    "qwen3-235b-a22b",
    "gpt-oss-120b",
    "falcon-180b",
    "llama-7b",
    "llama-4-maverick",
]
# Cards whose "activated" figure counts the input embedding lookup too (stated in the row's
# notes); infercost's active count leaves the lookup out, so they are compared with it added.
CARD_ACTIVE_COUNTS_EMBEDDING = {"qwen3-30b-a3b", "qwen3-235b-a22b", "llama-4-maverick"}
AS_OF = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
ALL_IDS = [m.id for m in models()]
MOE_IDS = [m.id for m in models() if m.moe is not None]


@pytest.mark.parametrize("model_id", REQUIRED_IDS)
def test_required_model_loads(model_id: str) -> None:
    arch = model(model_id)
    assert arch.id == model_id
    assert arch.source.startswith("http")
    assert AS_OF.match(arch.as_of)


@pytest.mark.parametrize("model_id", ALL_IDS)
def test_published_figures_are_numbers(model_id: str) -> None:
    # YAML reads "70.6e9" (no exponent sign) as a string; rows must write 70.6e+9.
    arch = model(model_id)
    assert isinstance(arch.published_total_params, float)
    if arch.moe is not None:
        assert isinstance(arch.published_active_params, float)


@pytest.mark.parametrize("model_id", ALL_IDS)
def test_total_within_two_percent_of_card(model_id: str) -> None:
    arch = model(model_id)
    assert arch.published_total_params is not None
    assert arch.total_params() == pytest.approx(arch.published_total_params, rel=0.02)


@pytest.mark.parametrize("model_id", MOE_IDS)
def test_active_within_two_percent_of_card(model_id: str) -> None:
    arch = model(model_id)
    active = arch.active_params()
    if model_id in CARD_ACTIVE_COUNTS_EMBEDDING:
        assert "embedding" in arch.notes
        active += arch.embedding_params()
    assert arch.published_active_params is not None
    assert active == pytest.approx(arch.published_active_params, rel=0.02)


def test_active_is_total_for_dense_models_less_the_embedding() -> None:
    arch = model("llama-2-7b")
    # untied: active = total - one 32000 x 4096 embedding = 6,738,149,376 - 131,072,000
    assert arch.active_params() == 6_607_077_376


# --- counts worked by hand -----------------------------------------------------------------


def test_llama_2_7b_total() -> None:
    # 32 layers * (4 * 4096^2 attention + 3 * 4096 * 11008 gated MLP)
    #   = 32 * (67,108,864 + 135,266,304) = 6,476,005,376
    # + embedding and untied head 2 * 32000 * 4096 = 262,144,000
    assert model("llama-2-7b").total_params() == 6_738_149_376


def test_llama_2_70b_total_counts_gqa_and_the_third_mlp_matrix() -> None:
    # attention: q 8192^2 + k,v 2 * 8192 * (8 * 128) + o 8192^2
    #   = 67,108,864 + 16,777,216 + 67,108,864 = 150,994,944
    # gated MLP: 3 * 8192 * 28672 = 704,643,072 (two matrices would be 469,762,048)
    # 80 * (150,994,944 + 704,643,072) = 68,451,041,280; + 2 * 32000 * 8192 = 524,288,000
    assert model("llama-2-70b").total_params() == 68_975_329_280


def test_gpt3_total() -> None:
    # 96 layers * 12 * 12288^2 (4 d^2 attention + 2 * d * 4d MLP) = 173,946,175,488
    # + tied embedding 50257 * 12288 = 617,558,016
    assert model("gpt3-175b").total_params() == 174_563_733_504


def test_mixtral_counts() -> None:
    # attention per layer: 2 * 4096^2 + 2 * 4096 * 1024 = 41,943,040; * 32 = 1,342,177,280
    # one expert: 3 * 4096 * 14336 = 176,160,768; router 4096 * 8 = 32,768
    # total: 32 * (8 * 176,160,768 + 32,768) = 45,098,205,184
    #   + 1,342,177,280 + 2 * 32000 * 4096 (262,144,000) = 46,702,526,464
    # active: 32 * (2 * 176,160,768 + 32,768) = 11,275,337,728
    #   + 1,342,177,280 + head 131,072,000 = 12,748,587,008
    arch = model("mixtral-8x7b")
    assert arch.total_params() == 46_702_526_464
    assert arch.active_params() == 12_748_587_008


def test_deepseek_v3_counts() -> None:
    # MLA per layer:
    #   q: 7168 * 1536 + 1536 * 128 * (128 + 64) = 11,010,048 + 37,748,736 = 48,758,784
    #   kv: 7168 * (512 + 64) + 512 * 128 * (128 + 128) = 4,128,768 + 16,777,216 = 20,905,984
    #   o: 128 * 128 * 7168 = 117,440,512  -> 187,105,280; * 61 = 11,413,422,080
    # 3 dense layers: 3 * (3 * 7168 * 18432) = 3 * 396,361,728 = 1,189,085,184
    # expert: 3 * 7168 * 2048 = 44,040,192; router 7168 * 256 = 1,835,008
    # active MoE layer: (8 routed + 1 shared) * 44,040,192 + 1,835,008 = 398,196,736
    #   * 58 = 23,095,410,688
    # active = 11,413,422,080 + 1,189,085,184 + 23,095,410,688 + head 129280 * 7168
    #   (926,679,040) = 36,624,596,992  (DeepSeek: "36.6B incl. 0.9B output head")
    # total MoE layer: 257 * 44,040,192 + 1,835,008 = 11,320,164,352; * 58 = 656,569,532,416
    # total = 11,413,422,080 + 1,189,085,184 + 656,569,532,416 + 2 * 926,679,040
    #   = 671,025,397,760
    arch = model("deepseek-v3")
    assert arch.active_params() == 36_624_596_992
    assert arch.total_params() == 671_025_397_760


def test_gpt_oss_120b_counts() -> None:
    # attention: 2880 * 64 * 64 * 2 (q, o) + 2 * 2880 * 8 * 64 = 26,542,080; * 36 = 955,514,880
    # expert: 3 * 2880 * 2880 = 24,883,200; router 2880 * 128 = 368,640
    # active: 36 * (4 * 24,883,200 + 368,640) = 3,596,451,840 + 955,514,880
    #   + head 201088 * 2880 (579,133,440) = 5,131,100,160  (card: 5.13B)
    arch = model("gpt-oss-120b")
    assert arch.active_params() == 5_131_100_160


def test_llama_4_maverick_counts() -> None:
    # attention: q, o 2 * 5120 * 40 * 128 + k, v 2 * 5120 * 8 * 128 = 62,914,560; * 48
    #   = 3,019,898,880
    # 24 dense layers: 3 * 5120 * 16384 = 251,658,240; * 24 = 6,039,797,760
    # expert (and the shared one): 3 * 5120 * 8192 = 125,829,120; router 5120 * 128 = 655,360
    # total MoE layer: 129 * 125,829,120 + 655,360 = 16,232,611,840; * 24 = 389,582,684,160
    # total = 3,019,898,880 + 6,039,797,760 + 389,582,684,160 + 2 * 202048 * 5120
    #   (2,068,971,520) = 400,711,352,320  (card: 400B)
    # active MoE layer: (1 routed + 1 shared) * 125,829,120 + 655,360 = 252,313,600; * 24
    #   = 6,055,526,400; active = 3,019,898,880 + 6,039,797,760 + 6,055,526,400
    #   + head 1,034,485,760 = 16,149,708,800  (card's 17B adds the embedding lookup)
    arch = model("llama-4-maverick")
    assert arch.total_params() == 400_711_352_320
    assert arch.active_params() == 16_149_708_800


def test_deepseek_r1_has_v3_architecture() -> None:
    assert model("deepseek-r1").total_params() == model("deepseek-v3").total_params()
    assert "MTP" in model("deepseek-r1").notes
    assert "MTP" in model("deepseek-v3").notes


# --- attention kinds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "kind"),
    [
        ("llama-2-7b", "mha"),
        ("gpt3-175b", "mha"),
        ("llama-2-70b", "gqa"),
        ("llama-3.1-8b", "gqa"),
        ("falcon-180b", "gqa"),
        ("deepseek-v3", "mla"),
    ],
)
def test_attention_kind(model_id: str, kind: str) -> None:
    assert model(model_id).attention_kind == kind


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "model_id"),
    [
        ("Llama-3.1-70B", "llama-3.1-70b"),
        ("llama3.1-70b", "llama-3.1-70b"),
        ("meta-llama/Llama-3.1-70B-Instruct", "llama-3.1-70b"),
        ("meta-llama/Meta-Llama-3.1-70B-Instruct", "llama-3.1-70b"),
        ("LLaMA-2-70B", "llama-2-70b"),
        ("llama2-70b", "llama-2-70b"),
        ("meta-llama/Llama-2-70b-hf", "llama-2-70b"),
        ("Llama-3-70B", "llama-3-70b"),
        ("Llama-3.3-70B", "llama-3.3-70b"),
        ("GPT-3", "gpt3-175b"),
        ("gpt-3-175b", "gpt3-175b"),
        ("davinci", "gpt3-175b"),
        ("EleutherAI/gpt-j-6b", "gpt-j-6b"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b"),
        ("DeepSeek-V3", "deepseek-v3"),
        ("deepseek-ai/DeepSeek-R1", "deepseek-r1"),
        ("Qwen/Qwen3-30B-A3B", "qwen3-30b-a3b"),
        ("Qwen/Qwen3-235B-A22B", "qwen3-235b-a22b"),
        ("openai/gpt-oss-120b", "gpt-oss-120b"),
        ("tiiuae/falcon-180B", "falcon-180b"),
        ("LLaMA-7B", "llama-7b"),
        ("LLaMA-70B", "llama-2-70b"),
        ("DeepSeek-V3/R1", "deepseek-v3"),
        ("DeepSeek-R1/V3", "deepseek-v3"),
        ("Llama-4-Maverick-17B-128E-Instruct", "llama-4-maverick"),
    ],
)
def test_alias_resolves(name: str, model_id: str) -> None:
    assert model(name).id == model_id


@pytest.mark.parametrize(
    "name",
    ["Llama-3.1-70B", "llama-3.1-70b", "Llama 3.1 70B", "meta-llama/Llama-3.1-70B-Instruct"],
)
def test_llama_3_1_70b_is_never_llama_2(name: str) -> None:
    # The Llama 3 tokenizer has 128256 entries and the context is 128K; Llama 2 has 32000 / 4K.
    arch = model(name)
    assert arch.id != "llama-2-70b"
    assert arch.vocab_size == 128256
    assert arch.max_context_tokens == 131072


def test_llama_2_aliases_never_name_llama_3() -> None:
    for row_id in ("llama-2-7b", "llama-2-13b", "llama-2-70b"):
        for alias in model(row_id).aliases:
            assert "3" not in alias.lower().replace("13b", ""), alias


def test_r1_distill_is_not_an_alias_of_r1() -> None:
    with pytest.raises(UnknownNameError):
        model("deepseek-ai/DeepSeek-R1-Distill-Llama-70B")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Llama-9-70B", "llama-3-70b"),
        ("Mixtral-8x22B", "mixtral-8x7b"),
        ("deepseek-v2", "deepseek-v3"),
        ("qwen3-14b", "qwen3-32b"),
    ],
)
def test_unknown_name_suggests_close_ids(name: str, expected: str) -> None:
    with pytest.raises(UnknownNameError) as info:
        model(name)
    assert expected in info.value.suggestions
    assert info.value.field == "model"
    assert name in str(info.value)
