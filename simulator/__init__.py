"""ftsim: a contract-testing simulator of the Fast Track CRM Integration API."""

__version__ = "0.1.0"
