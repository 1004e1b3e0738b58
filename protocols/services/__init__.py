"""Protocol-neutral services: writes that several protocols and the CLI share."""
