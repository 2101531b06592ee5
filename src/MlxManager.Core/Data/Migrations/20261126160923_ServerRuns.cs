using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MlxManager.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class ServerRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ServerRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ProfileId = table.Column<int>(type: "INTEGER", nullable: false),
                    ProfileName = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Engine = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ModelReference = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    ModelIsMultimodal = table.Column<bool>(type: "INTEGER", nullable: false),
                    Host = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    Pid = table.Column<int>(type: "INTEGER", nullable: true),
                    ProcessStartTime = table.Column<long>(type: "INTEGER", nullable: true),
                    CommandLine = table.Column<string>(type: "TEXT", nullable: false),
                    OutputPath = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    LogPath = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    WorkingDirectory = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", nullable: true),
                    ExitCode = table.Column<int>(type: "INTEGER", nullable: true),
                    FailureLog = table.Column<string>(type: "TEXT", nullable: true),
                    StartedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ReadyAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    EndedAtUtc = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ServerRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ServerRuns_Profiles_ProfileId",
                        column: x => x.ProfileId,
                        principalTable: "Profiles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ServerRuns_ProfileId_Id",
                table: "ServerRuns",
                columns: new[] { "ProfileId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ServerRuns_State",
                table: "ServerRuns",
                column: "State");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ServerRuns");
        }
    }
}
