"""The simulator's event loop, compiled with numba.

A replica runs vLLM-style continuous batching. At every step boundary it admits waiting
requests first-come first-served while a slot (`max_seqs`) and KV room for the whole prompt
are free; a step carries one token per decoding sequence plus prompt chunks up to the token
budget (chunked prefill); a prompt's last chunk emits its first token. When the KV cache
cannot take the next step's tokens, the latest admitted sequence is preempted by recompute:
it frees its KV and goes back to the front of the queue, to re-prefill prompt + output so far.

With vLLM's multi-step scheduling (`group_steps` > 1) the scheduler plans that many steps at
once: waiting requests join only between groups.

Speed comes from not looping over decode steps one by one. While a batch only decodes and
nothing can join (queue empty or blocked), its step time grows linearly with context, so
the k steps up to the next event — a completion, a full KV cache, or the next arrival —
take a closed-form time, and the loop jumps there at once.

State lives in arrays owned by the caller, so the loop can run a slice of arrivals at a
time (for a progress bar) and pick up where it stopped. A router sends each arrival to a
replica: round-robin, or the one with the fewest outstanding requests after every replica
has been advanced to the arrival time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

ROUND_ROBIN = 0
LEAST_OUTSTANDING = 1
ITL_BINS = 400
ITL_LOW_S = 1e-5
ITL_HIGH_S = 1e3


@njit(cache=True)
def _itl_bin(dt: float) -> int:
    x = math.log(max(dt, ITL_LOW_S) / ITL_LOW_S) / math.log(ITL_HIGH_S / ITL_LOW_S)
    return min(int(x * ITL_BINS), ITL_BINS - 1)


@njit(cache=True)
def _exposed(comm: float, busy: float, overlap: float) -> float:
    return comm - min(comm, overlap * busy)


@njit(cache=True)
def _admit(r, clock, head, tail, nxt, arrival, prefill_len, kv_cap, kv_used, count,
           slot_req, slot_ctx, slot_pre, slot_rem, max_seqs, remaining_out, queued):  # fmt: skip
    """Move queued requests into free slots while KV room for their prompt remains."""
    while head[r] >= 0 and count[r] < max_seqs:
        i = head[r]
        if arrival[i] > clock[r]:
            break
        need = prefill_len[i]
        # Room for the prompt, for every running sequence's next token and a 1 % watermark
        # (vLLM's), so that an admission never forces a preemption at the very next step.
        if kv_used[r] + need + count[r] + 1 + kv_cap // 100 > kv_cap:
            break
        head[r] = nxt[i]
        if head[r] < 0:
            tail[r] = -1
        queued[r] -= 1
        k = count[r]
        slot_req[r, k] = i
        slot_ctx[r, k] = 0
        slot_pre[r, k] = need
        slot_rem[r, k] = remaining_out[i]
        count[r] += 1
        kv_used[r] += need


@njit(cache=True)
def _remove(r, k, count, slot_req, slot_ctx, slot_pre, slot_rem):  # fmt: skip
    last = count[r] - 1
    slot_req[r, k] = slot_req[r, last]
    slot_ctx[r, k] = slot_ctx[r, last]
    slot_pre[r, k] = slot_pre[r, last]
    slot_rem[r, k] = slot_rem[r, last]
    count[r] = last


@njit(cache=True)
def run_replica(r, until, clock, head, tail, nxt, arrival, prefill_len, remaining_out,
                first_token, finish, preempted, queued, outstanding, count, slot_req,
                slot_ctx, slot_pre, slot_rem, kv_used, kv_cap, max_seqs, budget, group_steps,
                group_left, matmul, head_s, weights, comm, att, kvc, overlap, step_oh, tok_oh,
                busy_s, batch_time, queue_time, kv_time, itl_hist, steps):  # fmt: skip
    """Advance replica `r` to the first step boundary at or after `until` (or until idle)."""
    table_max = matmul.shape[0] - 1
    while clock[r] < until:
        if count[r] == 0:
            group_left[r] = 0  # an idle engine plans afresh
        if group_left[r] == 0:  # vLLM multi-step: new work joins only between step groups
            _admit(r, clock, head, tail, nxt, arrival, prefill_len, kv_cap, kv_used, count,
                   slot_req, slot_ctx, slot_pre, slot_rem, max_seqs, remaining_out,
                   queued)  # fmt: skip
        n = count[r]
        if n == 0:
            if head[r] >= 0 and arrival[head[r]] > clock[r]:
                clock[r] = min(arrival[head[r]], until)
                continue
            clock[r] = until  # idle
            return
        decoding = 0
        ctx_dec = 0.0
        for k in range(n):
            if slot_pre[r, k] == 0:
                decoding += 1
                ctx_dec += slot_ctx[r, k]
        # Preempt by recompute when the decodes' next tokens do not fit.
        if kv_used[r] + decoding > kv_cap and n > 1:
            victim = n - 1  # the latest admitted
            i = slot_req[r, victim]
            kv_used[r] -= slot_ctx[r, victim] + slot_pre[r, victim]
            prefill_len[i] = slot_ctx[r, victim] + slot_pre[r, victim]
            remaining_out[i] = slot_rem[r, victim]
            preempted[i] += 1
            _remove(r, victim, count, slot_req, slot_ctx, slot_pre, slot_rem)
            nxt[i] = head[r]
            head[r] = i
            if tail[r] < 0:
                tail[r] = i
            queued[r] += 1
            continue
        prefill_tokens = 0
        left = budget - decoding
        for k in range(n):
            if slot_pre[r, k] > 0 and left > 0:
                prefill_tokens += min(slot_pre[r, k], left)
                left -= min(slot_pre[r, k], left)
        if prefill_tokens == 0:
            # Decode only: jump k steps to the next completion, full KV, or `until`.
            b = decoding
            nb = min(b, table_max)
            base = max(matmul[nb] + head_s * b, weights[nb])
            slope = max(att, kvc)
            t0 = base + slope * (ctx_dec + b)
            t0 += _exposed(comm[nb], t0, overlap) + step_oh + tok_oh * b
            per_step_growth = slope * b
            k_fin = 1 << 60
            for k in range(n):
                if slot_pre[r, k] == 0:
                    k_fin = min(k_fin, slot_rem[r, k])
            k_kv = int((kv_cap - kv_used[r]) // b) if b > 0 else k_fin
            gap = until - clock[r]
            if per_step_growth > 0:
                a2 = per_step_growth / 2.0
                b1 = t0 - per_step_growth / 2.0
                root = (-b1 + math.sqrt(b1 * b1 + 4 * a2 * gap)) / (2 * a2)
                k_until = int(math.ceil(root))  # noqa: RUF046 (numba's ceil is a float)
            else:
                k_until = int(math.ceil(gap / t0))  # noqa: RUF046
            kk = max(1, min(k_fin, k_kv, k_until))
            if group_steps > 1:
                left_in_group = group_left[r] if group_left[r] > 0 else group_steps
                if head[r] >= 0:  # someone waits: stop at the end of this group
                    kk = min(kk, left_in_group)
                group_left[r] = (left_in_group - kk) % group_steps
            dt = kk * t0 + per_step_growth * kk * (kk - 1) / 2.0
            mean_kv = kv_used[r] + b * kk / 2.0
            clock[r] += dt
            kv_used[r] += b * kk
            busy_s[r] += dt
            batch_time[r, min(b, batch_time.shape[1] - 1)] += dt
            queue_time[r] += queued[r] * dt
            kv_time[r] += mean_kv * dt
            itl_hist[_itl_bin(dt / kk)] += b * kk
            steps[r] += kk
            k = 0
            while k < count[r]:
                if slot_pre[r, k] > 0:  # still waiting for budget to prefill
                    k += 1
                    continue
                slot_ctx[r, k] += kk
                slot_rem[r, k] -= kk
                if slot_rem[r, k] <= 0:
                    i = slot_req[r, k]
                    finish[i] = clock[r]
                    kv_used[r] -= slot_ctx[r, k]
                    outstanding[r] -= 1
                    _remove(r, k, count, slot_req, slot_ctx, slot_pre, slot_rem)
                else:
                    k += 1
            continue
        # A mixed step: every decode advances one token, prompt chunks fill the budget.
        tokens = min(decoding + prefill_tokens, table_max)
        attention = ctx_dec
        reads = ctx_dec + decoding
        seqs = decoding
        left = budget - decoding
        for k in range(n):
            if slot_pre[r, k] > 0 and left > 0:
                p = min(slot_pre[r, k], left)
                left -= p
                attention += p * (slot_ctx[r, k] + (p + 1) / 2.0)
                reads += slot_ctx[r, k] + p
                seqs += 1
        busy = max(matmul[tokens] + head_s * seqs, weights[tokens])
        busy += max(att * attention, kvc * reads)
        dt = busy + _exposed(comm[tokens], busy, overlap) + step_oh + tok_oh * seqs
        clock[r] += dt
        busy_s[r] += dt
        batch_time[r, min(n, batch_time.shape[1] - 1)] += dt
        queue_time[r] += queued[r] * dt
        kv_time[r] += kv_used[r] * dt
        if decoding > 0:
            itl_hist[_itl_bin(dt)] += decoding
        steps[r] += 1
        if group_steps > 1:
            started = group_left[r] if group_left[r] > 0 else group_steps
            group_left[r] = (started - 1) % group_steps
        kv_used[r] += decoding
        left = budget - decoding
        k = 0
        while k < count[r]:
            done = False
            if slot_pre[r, k] == 0:
                slot_ctx[r, k] += 1
                slot_rem[r, k] -= 1
                done = slot_rem[r, k] <= 0
            elif left > 0:
                p = min(slot_pre[r, k], left)
                left -= p
                slot_pre[r, k] -= p
                slot_ctx[r, k] += p
                if slot_pre[r, k] == 0:  # the prompt is in: its next token comes out now
                    i = slot_req[r, k]
                    if first_token[i] < 0:
                        first_token[i] = clock[r]
                    slot_rem[r, k] -= 1
                    done = slot_rem[r, k] <= 0
            if done:
                i = slot_req[r, k]
                finish[i] = clock[r]
                kv_used[r] -= slot_ctx[r, k]
                outstanding[r] -= 1
                _remove(r, k, count, slot_req, slot_ctx, slot_pre, slot_rem)
            else:
                k += 1


@njit(cache=True)
def route(start, stop, router, n_replicas, arrival, prefill_len, output, clock, head, tail,
          nxt, remaining_out, first_token, finish, preempted, replica, queued, outstanding,
          count, slot_req, slot_ctx, slot_pre, slot_rem, kv_used, kv_cap, max_seqs, budget,
          group_steps, group_left, matmul, head_s, weights, comm, att, kvc, overlap, step_oh,
          tok_oh, busy_s, batch_time, queue_time, kv_time, itl_hist, steps,
          rr_next):  # fmt: skip
    """Send arrivals `start`…`stop` to replicas, advancing replicas as time passes."""
    for i in range(start, stop):
        t = arrival[i]
        if router == LEAST_OUTSTANDING:
            best = 0
            for r in range(n_replicas):
                run_replica(r, t, clock, head, tail, nxt, arrival, prefill_len, remaining_out,
                            first_token, finish, preempted, queued, outstanding, count,
                            slot_req, slot_ctx, slot_pre, slot_rem, kv_used, kv_cap, max_seqs,
                            budget, group_steps,
                            group_left, matmul, head_s, weights, comm, att, kvc, overlap, step_oh,
                            tok_oh, busy_s, batch_time, queue_time, kv_time, itl_hist,
                            steps)  # fmt: skip
                if outstanding[r] < outstanding[best]:
                    best = r
            r = best
        else:
            r = rr_next[0]
            rr_next[0] = (r + 1) % n_replicas
            run_replica(r, t, clock, head, tail, nxt, arrival, prefill_len, remaining_out,
                        first_token, finish, preempted, queued, outstanding, count, slot_req,
                        slot_ctx, slot_pre, slot_rem, kv_used, kv_cap, max_seqs, budget,
                        group_steps, group_left, matmul, head_s, weights, comm, att, kvc,
                        overlap, step_oh, tok_oh, busy_s, batch_time, queue_time, kv_time,
                        itl_hist, steps)  # fmt: skip
        replica[i] = r
        if prefill_len[i] + output[i] + 1 + kv_cap // 100 > kv_cap:  # can never fit its KV
            finish[i] = -1.0
            continue
        remaining_out[i] = output[i]
        nxt[i] = -1
        if tail[r] >= 0:
            nxt[tail[r]] = i
        else:
            head[r] = i
        tail[r] = i
        queued[r] += 1
        outstanding[r] += 1


@njit(cache=True)
def drain(n_replicas, arrival, prefill_len, remaining_out, clock, head, tail, nxt,
          first_token, finish, preempted, queued, outstanding, count, slot_req, slot_ctx,
          slot_pre, slot_rem, kv_used, kv_cap, max_seqs, budget, group_steps,
          group_left, matmul, head_s, weights, comm, att,
          kvc, overlap, step_oh, tok_oh, busy_s, batch_time, queue_time, kv_time, itl_hist,
          steps):  # fmt: skip
    """Run every replica until it has finished all its requests."""
    for r in range(n_replicas):
        while outstanding[r] > 0:
            run_replica(r, clock[r] + 3600.0, clock, head, tail, nxt, arrival, prefill_len,
                        remaining_out, first_token, finish, preempted, queued, outstanding,
                        count, slot_req, slot_ctx, slot_pre, slot_rem, kv_used, kv_cap,
                        max_seqs, budget, group_steps,
                        group_left, matmul, head_s, weights, comm, att, kvc, overlap, step_oh,
                        tok_oh, busy_s, batch_time, queue_time, kv_time, itl_hist,
                        steps)  # fmt: skip


def empty_state(n: int, n_replicas: int, max_seqs: int) -> dict[str, np.ndarray]:
    """Zeroed state arrays for `n` requests on `n_replicas` replicas."""
    return {
        "clock": np.zeros(n_replicas),
        "head": np.full(n_replicas, -1, dtype=np.int64),
        "tail": np.full(n_replicas, -1, dtype=np.int64),
        "nxt": np.full(n, -1, dtype=np.int64),
        "remaining_out": np.zeros(n, dtype=np.int64),
        "first_token": np.full(n, -1.0),
        "finish": np.full(n, -2.0),
        "preempted": np.zeros(n, dtype=np.int64),
        "replica": np.full(n, -1, dtype=np.int64),
        "queued": np.zeros(n_replicas, dtype=np.int64),
        "outstanding": np.zeros(n_replicas, dtype=np.int64),
        "count": np.zeros(n_replicas, dtype=np.int64),
        "slot_req": np.zeros((n_replicas, max_seqs), dtype=np.int64),
        "slot_ctx": np.zeros((n_replicas, max_seqs), dtype=np.int64),
        "slot_pre": np.zeros((n_replicas, max_seqs), dtype=np.int64),
        "slot_rem": np.zeros((n_replicas, max_seqs), dtype=np.int64),
        "kv_used": np.zeros(n_replicas, dtype=np.int64),
        "busy_s": np.zeros(n_replicas),
        "batch_time": np.zeros((n_replicas, max_seqs + 1)),
        "queue_time": np.zeros(n_replicas),
        "kv_time": np.zeros(n_replicas),
        "itl_hist": np.zeros(ITL_BINS),
        "steps": np.zeros(n_replicas, dtype=np.int64),
        "rr_next": np.zeros(1, dtype=np.int64),
        "group_left": np.zeros(n_replicas, dtype=np.int64),
    }


def itl_bin_edges() -> np.ndarray:
    return np.geomspace(ITL_LOW_S, ITL_HIGH_S, ITL_BINS + 1)
