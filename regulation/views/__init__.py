"""The public site's views, one module per part of the site: pages.py for the pages."""
