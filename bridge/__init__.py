"""lienthong: joins the document systems of Vietnamese government units into one flow."""

__version__ = "0.1.0"
