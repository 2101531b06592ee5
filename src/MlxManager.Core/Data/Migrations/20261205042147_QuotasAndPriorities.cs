using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MlxManager.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class QuotasAndPriorities : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Priority",
                table: "ApiKeys",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "UserQuotas",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    TokensPerDay = table.Column<long>(type: "INTEGER", nullable: true),
                    ConcurrentRequests = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UserQuotas", x => x.UserId);
                    table.ForeignKey(
                        name: "FK_UserQuotas_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "UserQuotas");

            migrationBuilder.DropColumn(
                name: "Priority",
                table: "ApiKeys");
        }
    }
}
