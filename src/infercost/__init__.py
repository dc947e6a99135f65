"""infercost: what it costs to serve a large language model, and the proof."""
