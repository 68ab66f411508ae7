"""The REST API (v1): the published knowledge for newsrooms, trackers and dashboards, and
token-authenticated writes through the models' own methods. Mounted at /api/v1/."""
