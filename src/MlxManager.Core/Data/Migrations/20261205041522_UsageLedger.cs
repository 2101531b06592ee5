using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MlxManager.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class UsageLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "UsageDailyTotals",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Day = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ApiKeyId = table.Column<int>(type: "INTEGER", nullable: true),
                    Source = table.Column<int>(type: "INTEGER", nullable: false),
                    Model = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Requests = table.Column<int>(type: "INTEGER", nullable: false),
                    Errors = table.Column<int>(type: "INTEGER", nullable: false),
                    Cancelled = table.Column<int>(type: "INTEGER", nullable: false),
                    RefusedByQuota = table.Column<int>(type: "INTEGER", nullable: false),
                    PromptTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    CompletionTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    ReasoningTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    EstimatedRequests = table.Column<int>(type: "INTEGER", nullable: false),
                    DurationMs = table.Column<long>(type: "INTEGER", nullable: false),
                    QueueWaitMs = table.Column<long>(type: "INTEGER", nullable: false),
                    TimeToFirstTokenMs = table.Column<long>(type: "INTEGER", nullable: false),
                    TimeToFirstTokenCount = table.Column<int>(type: "INTEGER", nullable: false),
                    ServerStarts = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageDailyTotals", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "UsageRecords",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    StartedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ApiKeyId = table.Column<int>(type: "INTEGER", nullable: true),
                    Source = table.Column<int>(type: "INTEGER", nullable: false),
                    ProfileId = table.Column<int>(type: "INTEGER", nullable: true),
                    ProfileName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Model = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    PromptTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    CompletionTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    ReasoningTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    TokensEstimated = table.Column<bool>(type: "INTEGER", nullable: false),
                    TimeToFirstTokenMs = table.Column<int>(type: "INTEGER", nullable: true),
                    DurationMs = table.Column<int>(type: "INTEGER", nullable: false),
                    QueueWaitMs = table.Column<int>(type: "INTEGER", nullable: false),
                    StartedServer = table.Column<bool>(type: "INTEGER", nullable: false),
                    Outcome = table.Column<int>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageRecords", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_UsageDailyTotals_Day_UserId_ApiKeyId_Source_Model",
                table: "UsageDailyTotals",
                columns: new[] { "Day", "UserId", "ApiKeyId", "Source", "Model" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageDailyTotals_UserId_Day",
                table: "UsageDailyTotals",
                columns: new[] { "UserId", "Day" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageRecords_StartedAtUtc",
                table: "UsageRecords",
                column: "StartedAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_UsageRecords_UserId_StartedAtUtc",
                table: "UsageRecords",
                columns: new[] { "UserId", "StartedAtUtc" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "UsageDailyTotals");

            migrationBuilder.DropTable(
                name: "UsageRecords");
        }
    }
}
