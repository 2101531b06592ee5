using Microsoft.Playwright;

namespace MlxManager.Web.Tests.Ui.PageObjects;

/// <summary>/keys: the new-key form, the secret shown once, the keys table.</summary>
public sealed class KeysPage(IPage page)
{
    public ILocator NameInput => page.Locator("input[name='Form.Name']");

    public ILocator Scope(string scope) => page.Locator($"input[name='Form.{scope}']");

    public ILocator Create => page.GetByTestId("create-key");

    public ILocator NewSecret => page.GetByTestId("new-key-secret");

    public ILocator Copy => page.GetByTestId("copy-key");

    public ILocator Row(string name) => page.Locator($"tr[data-testid='key-row'][data-name='{name}']");

    public ILocator Status(string name) => Row(name).GetByTestId("key-status");

    public ILocator Display(string name) => Row(name).GetByTestId("key-display");

    public async Task CreateAsync(string name, params string[] extraScopes)
    {
        await NameInput.FillAsync(name);
        foreach (var scope in extraScopes)
        {
            await Scope(scope).CheckAsync();
        }
        await Create.ClickAsync();
    }

    /// <summary>Clicks Revoke and accepts the confirmation.</summary>
    public async Task RevokeAsync(string name)
    {
        page.Dialog += AcceptAsync;
        try
        {
            await Row(name).GetByTestId("revoke-key").ClickAsync();
            await Assertions.Expect(Status(name)).ToHaveTextAsync("revoked");
        }
        finally
        {
            page.Dialog -= AcceptAsync;
        }
    }

    private static async void AcceptAsync(object? sender, IDialog dialog) => await dialog.AcceptAsync();
}
