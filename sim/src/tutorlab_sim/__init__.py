"""tutorlab_sim."""
