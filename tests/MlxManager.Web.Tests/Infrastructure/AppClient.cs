using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace MlxManager.Web.Tests.Infrastructure;

/// <summary>
/// A browser-like HTTP client for integration tests: keeps cookies, does not follow redirects,
/// reads antiforgery tokens from the pages it loads and posts forms the way the pages do.
/// </summary>
public sealed partial class AppClient(HttpClient http) : IDisposable
{
    public HttpClient Http { get; } = http;

    public Task<HttpResponseMessage> GetAsync(string url) => Http.GetAsync(url);

    public async Task<string> GetHtmlAsync(string url)
    {
        var response = await Http.GetAsync(url);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, $"GET {url}");
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The hidden-field antiforgery token of the first form on <paramref name="pageUrl"/>.</summary>
    public async Task<string> FormTokenAsync(string pageUrl)
    {
        var html = await GetHtmlAsync(pageUrl);
        var match = FormTokenPattern().Match(html);
        match.Success.ShouldBeTrue($"no antiforgery field on {pageUrl}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>The token the htmx-config meta tag hands to htmx on <paramref name="pageUrl"/>.</summary>
    public async Task<string> HtmxTokenAsync(string pageUrl)
    {
        var html = await GetHtmlAsync(pageUrl);
        var match = HtmxTokenPattern().Match(html);
        match.Success.ShouldBeTrue($"no htmx antiforgery token on {pageUrl}");
        return match.Groups[1].Value;
    }

    /// <summary>Posts a form to <paramref name="url"/>, with the antiforgery token read from <paramref name="tokenPage"/>.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string url, IDictionary<string, string> fields, string? tokenPage = null)
    {
        var values = new Dictionary<string, string>(fields)
        {
            ["__RequestVerificationToken"] = await FormTokenAsync(tokenPage ?? url),
        };
        return await Http.PostAsync(url, new FormUrlEncodedContent(values));
    }

    /// <summary>A POST as htmx sends it: HX-Request header and the token in the RequestVerificationToken header.</summary>
    public async Task<HttpResponseMessage> HtmxPostAsync(string url, string tokenPage, IDictionary<string, string>? fields = null, bool withToken = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(fields ?? new Dictionary<string, string>()),
        };
        request.Headers.Add("HX-Request", "true");
        request.Headers.Add("HX-Current-URL", new Uri(Http.BaseAddress!, tokenPage).ToString());
        if (withToken)
        {
            request.Headers.Add("RequestVerificationToken", await HtmxTokenAsync(tokenPage));
        }
        return await Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> RegisterAsync(string email, string password = TestPasswords.Default, string? confirm = null) =>
        PostFormAsync("/register", new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = confirm ?? password,
        });

    public Task<HttpResponseMessage> LoginAsync(string email, string password = TestPasswords.Default, string? returnUrl = null)
    {
        var fields = new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = password };
        if (returnUrl is not null)
        {
            fields["ReturnUrl"] = returnUrl;
        }
        return PostFormAsync("/login", fields);
    }

    /// <summary>Signs in and checks it worked (a redirect away from the login page).</summary>
    public async Task SignInAsync(string email, string password = TestPasswords.Default)
    {
        var response = await LoginAsync(email, password);
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
    }

    public void UseBearer(string token) => Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex FormTokenPattern();

    [GeneratedRegex("\"requestToken\":\"([^\"]+)\"")]
    private static partial Regex HtmxTokenPattern();
}
