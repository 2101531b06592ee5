using System.Net;
using System.Text.Json;

namespace MlxManager.Web.Tests.Infrastructure;

public static class HttpAssertions
{
    /// <summary>Asserts a 302 to the login page that returns to <paramref name="returnUrl"/>.</summary>
    public static void ShouldRedirectToLogin(this HttpResponseMessage response, string? returnUrl = null)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}");
        var location = response.Headers.Location!.OriginalString;
        location.ShouldStartWith("/login?returnUrl=");
        if (returnUrl is not null)
        {
            location.ShouldBe("/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        }
    }

    public static void ShouldRedirectTo(this HttpResponseMessage response, string location)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.OriginalString.ShouldBe(location);
    }

    /// <summary>Reads an RFC 9457 problem-details body and checks its status.</summary>
    public static async Task<JsonElement> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        response.StatusCode.ShouldBe(status);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        problem.GetProperty("status").GetInt32().ShouldBe((int)status);
        return problem;
    }
}
