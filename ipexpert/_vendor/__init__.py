"""Third-party code shipped inside ipexpert; see README.md here for what, why and what changed."""
