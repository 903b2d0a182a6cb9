"""A thin strawberry schema over the application services and the read models."""
