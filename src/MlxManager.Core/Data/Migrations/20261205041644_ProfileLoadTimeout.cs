using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MlxManager.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class ProfileLoadTimeout : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "LoadTimeoutSeconds",
                table: "Profiles",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LoadTimeoutSeconds",
                table: "Profiles");
        }
    }
}
