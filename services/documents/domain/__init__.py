"""Pure rendering of the documents (公文): data in, PDF/XLSX bytes out; no I/O, no clocks."""
