using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using MlxManager.Core.Data;
using MlxManager.Core.Data.CompiledModel;

namespace MlxManager.Core.Tests.Data;

/// <summary>
/// The app runs on the compiled model in <c>Data/CompiledModel</c> and skips EF's own start-up check for model changes
/// without a migration (it would build the model a second time at every start). These tests make both checks instead:
/// a change to an entity or its configuration fails here until its migration is added and the compiled model is
/// regenerated.
/// </summary>
public sealed class AppDbContextModelTests : IDisposable
{
    private const string Regenerate =
        "dotnet ef dbcontext optimize --project src/MlxManager.Core --startup-project src/MlxManager.Web -o Data/CompiledModel -n MlxManager.Core.Data.CompiledModel";

    private readonly SqliteConnection _connection = new("Data Source=:memory:");
    private readonly AppDbContext _db;

    public AppDbContextModelTests()
    {
        _connection.Open();
        _db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseSqlite(_connection).Options);
    }

    [Fact]
    public void EveryModelChange_HasAMigration()
    {
        _db.Database.HasPendingModelChanges().ShouldBeFalse(
            "the entities differ from the last migration's snapshot: add a migration (docs/ARCHITECTURE.md, \"Adding a migration\")");
    }

    [Fact]
    public void TheAppRunsOnTheCompiledModel_AndTheComparisonsBelowBuildTheirsFromOnModelCreating()
    {
        _db.Model.ShouldBeSameAs(AppDbContextModel.Instance);
        _db.GetService<IDesignTimeModel>().Model.ShouldNotBeOfType<AppDbContextModel>();
    }

    [Fact]
    public void TheCompiledModel_MapsTheSameTablesColumnsAndRelations_AsOnModelCreating()
    {
        // EF's schema differ cannot read the compiled (read-optimized) model, so both are described line by line.
        var built = Describe(_db.GetService<IDesignTimeModel>().Model);
        var compiled = Describe(_db.Model);

        var firstDifference = built.Zip(compiled).FirstOrDefault(pair => pair.First != pair.Second);
        firstDifference.ShouldBe(default, $"the compiled model is out of date; regenerate it with `{Regenerate}`");
        compiled.Count.ShouldBe(built.Count, $"the compiled model is out of date; regenerate it with `{Regenerate}`");
    }

    public void Dispose()
    {
        _db.Dispose();
        _connection.Dispose();
    }

    /// <summary>One line per entity type, property, key, foreign key, navigation and index, in a stable order.</summary>
    private static List<string> Describe(IModel model)
    {
        var lines = new List<string>();
        foreach (var entity in model.GetEntityTypes().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            lines.Add($"{entity.Name} → {entity.GetTableName()} filter={entity.GetDeclaredQueryFilters().Count}");
            foreach (var property in entity.GetProperties().OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                var line = new StringBuilder($"  {property.Name}: {property.ClrType.Name} column={property.GetColumnName()}");
                line.Append($" null={property.IsNullable} max={property.GetMaxLength()} type={property.GetColumnType()}");
                line.Append($" converter={Conversion(property)} generated={property.ValueGenerated}");
                line.Append($" concurrency={property.IsConcurrencyToken}");
                lines.Add(line.ToString());
            }

            lines.AddRange(entity.GetKeys().Select(k => $"  key {string.Join(",", k.Properties.Select(p => p.Name))} primary={k.IsPrimaryKey()}").Order(StringComparer.Ordinal));
            lines.AddRange(entity.GetForeignKeys()
                .Select(f => $"  fk {string.Join(",", f.Properties.Select(p => p.Name))} → {f.PrincipalEntityType.Name} delete={f.DeleteBehavior} required={f.IsRequired}")
                .Order(StringComparer.Ordinal));
            lines.AddRange(entity.GetNavigations().Select(n => $"  nav {n.Name} → {n.TargetEntityType.Name} collection={n.IsCollection}").Order(StringComparer.Ordinal));
            lines.AddRange(entity.GetIndexes().Select(i => $"  index {string.Join(",", i.Properties.Select(p => p.Name))} unique={i.IsUnique} filter={i.GetFilter()}").Order(StringComparer.Ordinal));
        }

        return lines;
    }

    private static string Conversion(IProperty property) => property.GetTypeMapping().Converter is { } converter
        ? $"{converter.ModelClrType.Name}→{converter.ProviderClrType.Name}"
        : "none";
}
