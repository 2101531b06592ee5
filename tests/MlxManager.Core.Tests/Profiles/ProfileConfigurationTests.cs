using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Profiles;

public sealed class ProfileConfigurationTests : IDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public ProfileConfigurationTests() => _connection.Open();

    public void Dispose() => _connection.Dispose();

    [Fact]
    public void Profile_RoundTripsThroughSqliteWithEveryField()
    {
        var original = Engines.ProfileSamples.Full("mlx-openai-server");
        original.CreatedAt = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.FromHours(2));
        original.UpdatedAt = original.CreatedAt.AddMinutes(5);
        using (var db = NewContext())
        {
            db.Database.EnsureCreated();
            db.Profiles.Add(original);
            db.SaveChanges();
        }

        using var read = NewContext();
        var loaded = read.Profiles.Single();
        foreach (var property in typeof(Profile).GetProperties().Where(p => p.Name != nameof(Profile.Id)))
        {
            property.GetValue(loaded).ShouldBe(property.GetValue(original), property.Name);
        }

        read.Profiles.OrderByDescending(p => p.UpdatedAt).Select(p => p.Name).Single().ShouldBe(original.Name);
    }

    [Fact]
    public void Profile_WithATakenPort_IsRefusedByTheDatabaseToo()
    {
        using var db = NewContext();
        db.Database.EnsureCreated();
        db.Profiles.Add(new Profile { Name = "A", ModelRef = "a/b", Port = 8080 });
        db.SaveChanges();

        db.Profiles.Add(new Profile { Name = "B", ModelRef = "a/b", Port = 8080 });

        Should.Throw<DbUpdateException>(() => db.SaveChanges());
    }

    private ProfileTestContext NewContext() =>
        new(new DbContextOptionsBuilder<ProfileTestContext>().UseSqlite(_connection).Options);

    private sealed class ProfileTestContext(DbContextOptions<ProfileTestContext> options) : DbContext(options)
    {
        public DbSet<Profile> Profiles => Set<Profile>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) =>
            modelBuilder.ApplyConfiguration(new ProfileConfiguration());
    }
}
