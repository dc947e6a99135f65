"""The one pipeline: configuration → deployment → performance → feasibility → fleet → cost."""
