using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Data;
using MlxManager.Web.Hosting;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>
/// A real server-side failure (the accounts table is gone) must give a friendly page or problem
/// details with a correlation id that is also in the log, never a stack trace.
/// </summary>
public sealed class ErrorHostingTests : IAsyncLifetime
{
    private readonly MlxManagerFactory _app = new();

    public async Task InitializeAsync()
    {
        await _app.WithScopeAsync(services =>
            services.GetRequiredService<AppDbContext>().Database.ExecuteSqlRawAsync("ALTER TABLE AspNetUsers RENAME TO AspNetUsersBroken"));
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task PageFailure_ShowsFriendlyErrorPageWithTheLoggedCorrelationId()
    {
        using var client = _app.CreateAppClient();

        var response = await client.LoginAsync("someone@example.com");

        response.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        var html = await response.Content.ReadAsStringAsync();
        var correlationId = response.Headers.GetValues(ErrorHosting.CorrelationHeader).Single();
        html.ShouldContain("Something went wrong");
        html.ShouldContain(correlationId);
        html.ShouldNotContain("SqliteException");
        html.ShouldNotContain("at Microsoft.");
        _app.Logs.Entries.ShouldContain(entry =>
            entry.Level == LogLevel.Error && entry.Message.Contains(correlationId) && entry.Message.Contains("/login") && entry.Exception != null);
    }

    [Fact]
    public async Task ApiFailure_Gives500ProblemDetailsWithTheLoggedCorrelationId()
    {
        using var client = _app.CreateAppClient();

        var response = await client.Http.PostAsJsonAsync("/api/auth/token", new { email = "someone@example.com", password = TestPasswords.Default });

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.InternalServerError);
        var correlationId = problem.GetProperty(ErrorHosting.CorrelationExtension).GetString()!;
        response.Headers.GetValues(ErrorHosting.CorrelationHeader).Single().ShouldBe(correlationId);
        problem.ToString().ShouldNotContain("SqliteException");
        _app.Logs.Entries.ShouldContain(entry => entry.Level == LogLevel.Error && entry.Message.Contains(correlationId) && entry.Message.Contains("/api/auth/token"));
    }
}
