"""Training on more than one device or machine: strategies by name, the standard
``TF_CONFIG`` and local worker processes for development."""
