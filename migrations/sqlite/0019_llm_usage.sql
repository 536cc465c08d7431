-- What each employee asked of language models, per day (UTC), provider and model:
-- calls, prompt and answer tokens, and their cost by `[llm.prices]`. Budgets per
-- employee and day are checked against these sums.
CREATE TABLE llm_usage (
    tenant TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    day TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    calls BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cost_usd REAL NOT NULL,
    PRIMARY KEY (tenant, employee_id, day, provider, model)
);
CREATE INDEX llm_usage_day ON llm_usage (tenant, day);
