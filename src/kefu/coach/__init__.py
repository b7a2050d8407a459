"""The reply coach and quality inspection (质检): rules drawn from the seeds' training
material, live hints while an agent types, scores for closed conversations with a
supervisor's review, and canned phrases (快捷短语)."""
