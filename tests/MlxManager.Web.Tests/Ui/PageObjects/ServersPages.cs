using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui.PageObjects;

/// <summary>/servers: the profile picker, the tiles and their log panels.</summary>
public sealed class ServersPage(IPage page)
{
    public ILocator Picker => page.GetByRole(AriaRole.Combobox, new() { Name = "Profile" });

    public ILocator Options => page.GetByTestId("profile-options");

    public ILocator Option(string name) => Options.GetByRole(AriaRole.Option, new() { Name = name });

    public ILocator StartButton => page.GetByTestId("start-button");

    public ILocator Message => page.GetByTestId("action-message");

    public ILocator Tile(int id) => page.Locator($"#server-tile-{id}");

    public ILocator State(int id) => Tile(id).GetByTestId("server-state");

    public ILocator Cpu(int id) => Tile(id).GetByTestId("cpu-value");

    public ILocator Memory(int id) => Tile(id).GetByTestId("memory-value");

    public ILocator Uptime(int id) => Tile(id).GetByTestId("uptime");

    public ILocator GatewayLine(int id) => Tile(id).GetByTestId("gateway-line");

    public ILocator LogsButton(int id) => Tile(id).GetByTestId("logs-button");

    public ILocator LogsPanel(int id) => Tile(id).GetByTestId("logs-panel");

    public ILocator LogLines(int id) => Tile(id).GetByTestId("log-lines");

    public ILocator StopButton(int id) => Tile(id).GetByTestId("stop-button");

    public async Task PickByTypingAsync(string typed, string profileName)
    {
        await Picker.ClickAsync();
        await Picker.FillAsync("");
        await Picker.PressSequentiallyAsync(typed, new() { Delay = 40 });
        await Expect(Options).ToBeVisibleAsync();
        await Expect(Option(profileName)).ToBeVisibleAsync();
        // The first match is active; move down and back up with the keyboard to prove the arrows work.
        await Picker.PressAsync("ArrowDown");
        await Picker.PressAsync("ArrowUp");
        await Expect(Picker).ToHaveAttributeAsync("aria-activedescendant", await Option(profileName).GetAttributeAsync("id") ?? "");
        await Picker.PressAsync("Enter");
        await Expect(Options).ToBeHiddenAsync();
        await Expect(Picker).ToHaveValueAsync(profileName);
    }

    /// <summary>How many times the live region has been morphed since the page loaded (counted in the page).</summary>
    public Task<int> LiveSwapsAsync() => page.EvaluateAsync<int>("() => window.__liveSwaps || 0");

    public Task CountLiveSwapsAsync() => page.EvaluateAsync(
        "() => { window.__liveSwaps = 0; document.body.addEventListener('htmx:afterSwap', e => { if (e.target.id === 'servers-live') window.__liveSwaps++; }); }");
}
