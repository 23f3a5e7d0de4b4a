"""What scenes and capabilities share: columns, workflow, visibility and field rules."""
