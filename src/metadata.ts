/* eslint-disable */
export default async () => {
    const t = {};
    return { "@nestjs/swagger": { "models": [], "controllers": [[import("./health/health.controller.js"), { "HealthController": { "check": { summary: "Liveness and readiness: 200 while MongoDB answers a ping, 503 when it does not.", type: Object } } }]] } };
};