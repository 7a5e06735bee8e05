"""Mail and report templates, one folder per language (ja, en), rendered with jinja2."""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent
