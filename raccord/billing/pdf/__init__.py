"""Invoice and credit-note PDFs (B9): rendered from the document's own copies, stored once."""

from raccord.billing.pdf.render import render_document, render_view
from raccord.billing.pdf.store import document_pdf_store
from raccord.billing.pdf.view import DocumentView, document_view

__all__ = ["DocumentView", "document_pdf_store", "document_view", "render_document", "render_view"]
