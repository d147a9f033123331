"""Full screens and modals opened from the panes."""
