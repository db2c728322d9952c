"""Reading Marac data returns and finding every issue in them, by cell."""

from validation.validate import validate_bytes, validate_path

__all__ = ["validate_bytes", "validate_path"]
