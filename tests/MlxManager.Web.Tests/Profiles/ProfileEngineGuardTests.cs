using System.Net;
using System.Text.RegularExpressions;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Profiles;

/// <summary>
/// The profile form and the engines' architecture lists: engines that can load the model are offered first, one that
/// cannot needs "Try anyway", the form shows the check; and every default a new profile is given passes the form's own
/// validation, for each real model's files.
/// </summary>
public sealed partial class ProfileEngineGuardTests(ProfilesApp app) : IClassFixture<ProfilesApp>
{
    private static readonly string Frobnicator = FixtureCatalog.Unsupported.RepoId;

    [Fact]
    public async Task New_ForAVisionModel_OffersTheEnginesThatLoadItFirst_AndShowsTheCheck()
    {
        using var client = await app.SignedInAsync();

        var html = WebUtility.HtmlDecode(await client.GetHtmlAsync("/profiles/new?model=" + Uri.EscapeDataString(FixtureCatalog.GemmaVision.RepoId)));

        EngineOptions(html).ShouldBe(["mlx_vlm.server (MLX VLM, vision)", "mlx-openai-server (text and multimodal)", "mlx_lm.server (MLX LM, text) — text only"]);
        var check = Regex.Match(html, "<ul class=\"engine-check\".*?</ul>", RegexOptions.Singleline).Value;
        check.ShouldContain("<strong>mlx_lm</strong>: mlx_lm 0.32.0 loads \"gemma3\" as text only: the vision weights are dropped");
        check.ShouldContain("<strong>mlx_vlm</strong>: mlx_vlm 0.6.15 loads \"gemma3\" with vision");
    }

    [Fact]
    public async Task Save_WithAnEngineThatCannotLoadTheModel_NeedsTryAnyway()
    {
        using var client = await app.SignedInAsync();
        var form = FormFields(await client.GetHtmlAsync("/profiles/new?model=" + Uri.EscapeDataString(Frobnicator)));
        form["Input.Name"] = "frobnicator guarded";

        var refused = await client.PostFormAsync("/profiles/new", form);
        var refusedHtml = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        form["Input.TryAnyway"] = "true";
        var saved = await client.PostFormAsync("/profiles/new", form);

        refused.StatusCode.ShouldBe(HttpStatusCode.OK);
        Notes(refusedHtml, "notes-Engine").ShouldContain("cannot load this model: \"frobnicator\" is not in mlx_lm 0.32.0's models. Tick \"Try anyway\" to save it regardless");
        saved.StatusCode.ShouldBe(HttpStatusCode.Redirect, await saved.Content.ReadAsStringAsync());
        var profile = (await MlxManager.Web.Tests.Servers.Infrastructure.SeedProfiles.FindAsync(app, "frobnicator guarded")).ShouldNotBeNull();
        var edit = WebUtility.HtmlDecode(await client.GetHtmlAsync($"/profiles/{profile.Id}/edit"));
        Regex.IsMatch(edit, "<input type=\"checkbox\" role=\"switch\" id=\"Input_TryAnyway\"[^>]*checked=\"checked\"").ShouldBeTrue("a profile saved with Try anyway keeps it ticked");
        Notes(edit, "notes-Engine").ShouldContain("Saved with \"Try anyway\"");
    }

    [Fact]
    public async Task ProfilesPage_ShowsEachInstalledEnginesVersion_AndWarnsWhenOlderThanTheLists()
    {
        using var client = await app.SignedInAsync(admin: false);

        var html = WebUtility.HtmlDecode(await client.GetHtmlAsync("/profiles"));

        var section = Regex.Match(html, "<section id=\"installed-engines\".*?</section>", RegexOptions.Singleline).Value;
        var rows = Regex.Matches(section, "<tr data-engine=\"([^\"]+)\">(.*?)</tr>", RegexOptions.Singleline).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        // The emulator's launchers sit in a venv-shaped bin folder with pip's metadata of the versions it emulates.
        rows["mlx_lm.server"].ShouldContain(">0.28.4<");
        rows["mlx_lm.server"].ShouldContain("Read from " + Path.Combine(Path.GetDirectoryName(MlxManager.Web.Tests.Servers.Infrastructure.EngineWorld.Instance.Launchers)!, "lib", "python3.12", "site-packages", "mlx_lm-0.28.4.dist-info", "METADATA"));
        rows["mlx_lm.server"].ShouldContain("Older than 0.32.0, the version the architecture lists come from");
        rows["mlx_vlm.server"].ShouldContain(">0.3.9<");
        rows["mlx-openai-server"].ShouldContain(">1.5.2<");
        rows["mlx-openai-server"].ShouldContain("Older than 1.8.1");
    }

    [Fact]
    public async Task EveryRealModel_NewProfileDefaults_PassTheFormsOwnValidation()
    {
        using var client = await app.SignedInAsync();
        var folders = Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "RealModels")).Order(StringComparer.Ordinal).ToList();
        folders.Count.ShouldBe(21);
        var failures = new List<string>();
        foreach (var folder in folders)
        {
            var form = FormFields(await client.GetHtmlAsync("/profiles/new?model=" + Uri.EscapeDataString(folder)));
            var response = await client.PostFormAsync("/profiles/new", form);
            if (response.StatusCode == HttpStatusCode.Redirect)
            {
                continue;
            }

            var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
            var errors = FieldErrors().Matches(html).Select(m => $"{m.Groups[1].Value}: {m.Groups[2].Value}").ToList();
            // An embedding model is the one case no default can fix: no engine serves it as a chat model, and the form says so.
            if (Path.GetFileName(folder) == "sentence-transformers--all-MiniLM-L6-v2" && errors.Count == 1 && errors[0].StartsWith("notes-Engine:", StringComparison.Ordinal))
            {
                errors[0].ShouldContain("an embedding model; no engine serves it as a chat model");
                InputValue(html, "Input_MaxTokens").ShouldBe("256", "max tokens stay below the 512-token context");
                continue;
            }

            failures.Add($"{Path.GetFileName(folder)}: {string.Join(" | ", errors)}");
        }

        failures.ShouldBeEmpty();
    }

    /// <summary>What the browser would post: every Input.* field of the form with its rendered value.</summary>
    private static Dictionary<string, string> FormFields(string html)
    {
        var form = Regex.Match(html, "<form method=\"post\" class=\"profile-form\".*?</form>", RegexOptions.Singleline).Value;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match input in Regex.Matches(form, "<input [^>]*name=\"(Input\\.[^\"]+)\"[^>]*>"))
        {
            var tag = input.Value;
            var value = Regex.Match(tag, "value=\"([^\"]*)\"") is { Success: true } v ? WebUtility.HtmlDecode(v.Groups[1].Value) : "";
            if (tag.Contains("type=\"checkbox\"", StringComparison.Ordinal))
            {
                if (tag.Contains("checked=\"checked\"", StringComparison.Ordinal))
                {
                    fields[input.Groups[1].Value] = value;
                }

                continue;
            }

            fields[input.Groups[1].Value] = value;
        }

        foreach (Match area in Regex.Matches(form, "<textarea [^>]*name=\"(Input\\.[^\"]+)\"[^>]*>(.*?)</textarea>", RegexOptions.Singleline))
        {
            fields[area.Groups[1].Value] = WebUtility.HtmlDecode(area.Groups[2].Value);
        }

        foreach (Match select in Regex.Matches(form, "<select [^>]*name=\"(Input\\.[^\"]+)\"[^>]*>(.*?)</select>", RegexOptions.Singleline))
        {
            var selected = Regex.Match(select.Groups[2].Value, "<option value=\"([^\"]*)\" selected=\"selected\"");
            fields[select.Groups[1].Value] = selected.Success ? WebUtility.HtmlDecode(selected.Groups[1].Value) : "";
        }

        return fields;
    }

    private static List<string> EngineOptions(string html)
    {
        var select = Regex.Match(html, "<select id=\"Input_Engine\".*?</select>", RegexOptions.Singleline).Value;
        return Regex.Matches(select, "<option value=\"[^\"]*\"[^>]*>([^<]*)</option>").Select(m => m.Groups[1].Value.Trim()).ToList();
    }

    private static string? InputValue(string html, string inputId) =>
        Regex.Match(html, $"<input id=\"{inputId}\"[^>]*value=\"([^\"]*)\"") is { Success: true } m ? m.Groups[1].Value : null;

    private static string Notes(string html, string notesId) =>
        Regex.Match(html, $"<div id=\"{notesId}\".*?</div>", RegexOptions.Singleline).Value;

    [GeneratedRegex("<div id=\"(notes-[A-Za-z]+)\"[^>]*>\\s*<small class=\"field-error\" data-kind=\"error\">([^<]*)</small>", RegexOptions.Singleline)]
    private static partial Regex FieldErrors();
}
