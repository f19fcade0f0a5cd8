"""The one root exception; everything ftsim raises on purpose derives from it."""


class FtsimError(Exception):
    """Base of every error ftsim raises deliberately."""


class ConfigError(FtsimError):
    """A setting, flag, environment variable or config file is wrong."""


class StoreError(FtsimError):
    """The store could not commit; the caller must not acknowledge the message."""
