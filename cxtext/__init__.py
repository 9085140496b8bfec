"""cxtext: customer-experience insight from Chinese reviews and complaint logs.

Every stage is usable from Python without Prefect; `pipelines/` only wires them.
"""
__version__ = "0.1.0"
