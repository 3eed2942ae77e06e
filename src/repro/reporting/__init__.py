"""The reporting layer: reads finished runs (``results/``), the published-number registry and the
reproduction configs, and writes what a reader sees. It never trains and imports no torch.

Modules:
  published.py      the registry ``src/repro/published_numbers.csv`` (every published number, with its source)
  report.py         ``repro aggregate``: table.md (the paper's layout) + table.csv (long format) per reproduction and scale
  claims.py         ``repro claims``: the results page: claims, verdicts, models, compute -> results/README.md
  figures.py        ``repro figures`` / ``make figures``: every figure, in the paper's forms
  curves.py         the pretraining curve of a mini model (drawn by figures.py and ``repro pretrain``)
  readme.py         ``repro readme``: the generated results block of each reproduction's README
  compute.py        ``repro compute``: what the finished runs cost -> results/compute-<scale>.md
  notebooks.py      ``repro notebooks``: execute notebooks/ against a results directory
  notebook_view.py  what a notebook shows per reproduction (table, figure, verdicts)

Dependencies run one way: published <- report <- claims <- readme / notebook_view; curves <- figures.
Nothing outside this package is imported except ``repro.metrics.superglue`` (the SuperGLUE score
definition) and ``repro.config`` (a reproduction's known-failure reason, in notebook_view).
"""
