"""mycity: the event-sourced backend of a city's citizen-services app."""
