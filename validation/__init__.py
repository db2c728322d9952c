"""Reading Marac data returns and finding every issue in them, by cell."""
