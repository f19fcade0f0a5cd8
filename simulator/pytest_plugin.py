"""pytest plugin: being written."""
