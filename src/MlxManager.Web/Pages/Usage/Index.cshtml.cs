using System.Globalization;
using CsvHelper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Usage;
using MlxManager.Core.Usage.Reports;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Usage;

/// <summary>
/// Usage: tokens per day (a chart stacked by model, key or — for admins — user), sums by model, user and key, what is
/// in use right now, and the day rows as CSV. Everyone sees their own; admins everyone's, with a user filter.
/// </summary>
public sealed class IndexModel(UsageReports reports, UsageNow now, IAuthorizationService authorization, TimeProvider time) : PageModel
{
    /// <summary>What the chart stacks by.</summary>
    public static readonly IReadOnlyList<string> Groupings = ["model", "key", "user"];

    [BindProperty(SupportsGet = true)]
    public int Days { get; set; } = 7;

    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string By { get; set; } = "model";

    public bool IsAdmin { get; private set; }

    public UsageReport Report { get; private set; } = null!;

    public TokensChart Chart { get; private set; } = null!;

    public IReadOnlyList<(string Id, string Email)> Users { get; private set; } = [];

    public IReadOnlyList<InUseRow> InUse { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        await LoadReportAsync(cancellationToken);
        if (IsAdmin)
        {
            Users = await reports.UsersAsync(cancellationToken);
        }

        if (!Groupings.Contains(By) || (By == "user" && !IsAdmin))
        {
            By = "model";
        }

        Chart = TokensChart.Build(Report, $"Tokens per day by {By}, last {Report.Scope.Days} days", By switch
        {
            "user" => row => row.User,
            "key" => row => row.Key,
            _ => row => row.Model,
        });
        await LoadInUseAsync(cancellationToken);
    }

    /// <summary>The "in use right now" table, polled by the page.</summary>
    public async Task<IActionResult> OnGetInUseAsync(CancellationToken cancellationToken)
    {
        IsAdmin = await authorization.IsAdminAsync(User);
        if (!IsAdmin)
        {
            UserFilter = null;
        }

        await LoadInUseAsync(cancellationToken);
        return Partial("Partials/_InUse", this);
    }

    /// <summary>The rows behind the page — one per day, user, key, source and model — with the page's filters.</summary>
    public async Task<IActionResult> OnGetCsvAsync(CancellationToken cancellationToken)
    {
        await LoadReportAsync(cancellationToken);
        var body = new MemoryStream();
        await using (var csv = CsvWriter.Create(new StreamWriter(body, leaveOpen: true), new CsvWriterOptions { Injection = CsvInjection.Escape }))
        {
            csv.WriteRecord(["day", "user", "key", "source", "model", "requests", "errors", "cancelled", "refused_by_quota",
                "prompt_tokens", "completion_tokens", "reasoning_tokens", "estimated_requests", "avg_time_to_first_token_ms", "avg_queue_wait_ms"]);
            foreach (var row in Report.Rows)
            {
                var group = UsageGroup.Of(row.Model, [row]);
                csv.WriteRecord([
                    row.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), row.User, row.Key,
                    row.Source == UsageSource.Chat ? "chat" : "gateway", row.Model,
                    Number(row.Requests), Number(row.Errors), Number(row.Cancelled), Number(row.RefusedByQuota),
                    Number(row.PromptTokens), Number(row.CompletionTokens), Number(row.ReasoningTokens), Number(row.EstimatedRequests),
                    group.AverageTimeToFirstTokenMs is { } ttft ? Number((long)Math.Round(ttft)) : "",
                    Number((long)Math.Round(group.AverageQueueWaitMs)),
                ]);
            }
        }

        body.Position = 0;
        return File(body, "text/csv; charset=utf-8", $"usage-{Report.From:yyyy-MM-dd}-to-{Report.To:yyyy-MM-dd}.csv");
    }

    /// <summary>The page's own URL with one query value changed, for the range, filter and grouping links.</summary>
    public string Link(int? days = null, string? by = null, string? handler = null)
    {
        var query = new Dictionary<string, string?>
        {
            ["days"] = (days ?? Report.Scope.Days).ToString(CultureInfo.InvariantCulture),
            ["user"] = IsAdmin ? UserFilter : null,
            ["by"] = by ?? By,
            ["handler"] = handler,
        };
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/usage", query.Where(p => !string.IsNullOrEmpty(p.Value)));
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private async Task LoadReportAsync(CancellationToken cancellationToken)
    {
        IsAdmin = await authorization.IsAdminAsync(User);
        if (!IsAdmin || string.IsNullOrEmpty(UserFilter))
        {
            UserFilter = null;
        }

        Report = await reports.ReadAsync(new UsageScope(AccountClaims.UserId(User)!, IsAdmin, Days, UserFilter), cancellationToken);
    }

    private async Task LoadInUseAsync(CancellationToken cancellationToken)
    {
        Now = time.GetUtcNow();
        InUse = await now.ReadAsync(AccountClaims.UserId(User)!, IsAdmin, UserFilter, cancellationToken);
    }
}
