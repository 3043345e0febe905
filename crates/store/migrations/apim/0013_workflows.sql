-- Approval workflows: a change waiting for an administrator (WSO2's AM_WORKFLOWS).
CREATE TABLE am_workflow (
    -- WSO2's external workflow reference: what the Admin API names a task by.
    workflow_id   TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL DEFAULT 'carbon.super',
    -- AM_APPLICATION_CREATION, AM_SUBSCRIPTION_CREATION, AM_SUBSCRIPTION_UPDATE
    workflow_type TEXT NOT NULL,
    -- CREATED while it waits, then APPROVED or REJECTED
    status        TEXT NOT NULL,
    -- The application or subscription it holds back.
    reference     TEXT NOT NULL,
    description   TEXT NOT NULL,
    -- What the request asks for (JSON), e.g. the tier a subscription is to change to.
    properties    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_time  BIGINT NOT NULL,
    updated_time  BIGINT NOT NULL,
    decided_by    TEXT,
    decision_note TEXT
);
CREATE INDEX am_workflow_pending ON am_workflow (tenant, status, created_time);
CREATE INDEX am_workflow_reference ON am_workflow (reference);
