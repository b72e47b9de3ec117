// PromptDB web app (placeholder until the pages land).
