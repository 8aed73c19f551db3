"""dataeff: predict how many more labeled examples an LLM fine-tuning task needs.

Implements CoS-Low (Je & Raffel, *Efficiently Estimating Data Efficiency for Language
Model Fine-tuning*, arXiv 2512.24991) inside the Label Studio annotation loop.

Layers (dependencies point downward only)::

    dataeff.service      Flask app, webhook intake, store, job runner
    dataeff.labelstudio  Label Studio configs/tasks -> examples; SDK client; status display
    dataeff.estimator    torch/transformers/peft: confidence pass, LoRA gradients, CoS-Low
    dataeff.efficiency   numpy only: AUC metric, power curve, calibration, verdicts
"""

__version__ = "0.1.0"
