"""Services: what the routes ask for, independent of HTTP."""
