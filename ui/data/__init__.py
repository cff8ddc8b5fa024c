"""Choosing the data: the Data panel, its background loader and the sample previews."""
