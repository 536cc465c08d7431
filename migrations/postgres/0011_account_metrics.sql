-- Account time series (usage, engagement, NPS, adoption, per feature or not) that the
-- CRM's analysis reads: health score, trend, anomaly. A value is stored once per
-- account, metric, feature and time; sending it again replaces it.
CREATE TABLE crm_account_metrics (
    tenant TEXT NOT NULL,
    account TEXT NOT NULL,
    metric TEXT NOT NULL,
    feature TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant, account, metric, feature, at)
);
