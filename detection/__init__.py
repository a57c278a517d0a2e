"""A feature-based detector of Veritalk's own generations (no Django, no pretrained networks)."""
