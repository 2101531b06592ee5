using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MlxManager.Core.Data.Migrations
{
    /// <summary>
    /// The gateway's profile fields. Existing profiles start on demand and take 8 concurrent requests, the entity's
    /// defaults (the model has no database defaults, so a new profile saved with "start on demand" off stays off).
    /// </summary>
    public partial class GatewayProfileFields : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "DefaultForModel",
                table: "Profiles",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "GatewayNames",
                table: "Profiles",
                type: "TEXT",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "KeepLoaded",
                table: "Profiles",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "MaxConcurrentRequests",
                table: "Profiles",
                type: "INTEGER",
                nullable: false,
                defaultValue: 8);

            migrationBuilder.AddColumn<bool>(
                name: "StartOnDemand",
                table: "Profiles",
                type: "INTEGER",
                nullable: false,
                defaultValue: true);

            migrationBuilder.AddColumn<int>(
                name: "UnloadAfterIdleMinutes",
                table: "Profiles",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "DefaultForModel",
                table: "Profiles");

            migrationBuilder.DropColumn(
                name: "GatewayNames",
                table: "Profiles");

            migrationBuilder.DropColumn(
                name: "KeepLoaded",
                table: "Profiles");

            migrationBuilder.DropColumn(
                name: "MaxConcurrentRequests",
                table: "Profiles");

            migrationBuilder.DropColumn(
                name: "StartOnDemand",
                table: "Profiles");

            migrationBuilder.DropColumn(
                name: "UnloadAfterIdleMinutes",
                table: "Profiles");
        }
    }
}
