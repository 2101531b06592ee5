using Microsoft.Playwright;

namespace MlxManager.Web.Tests.Ui.Chat;

/// <summary>/chat: sidebar, conversation, composer.</summary>
public sealed class ChatPage(IPage page)
{
    public ILocator ServerChoice(string profileName) => page.GetByTestId("server-choice").Filter(new() { HasText = profileName });

    public ILocator Input => page.GetByTestId("chat-input");

    public ILocator Send => page.GetByTestId("send");

    public ILocator Stop => page.GetByTestId("stop");

    public ILocator LiveAnswer => page.GetByTestId("live-answer").Last;

    public ILocator LiveThinking => page.Locator("[data-testid=live-answer] details.thinking").Last;

    public ILocator AssistantMessages => page.GetByTestId("assistant-message");

    public ILocator ToolBubbles => page.Locator("#chat-messages [data-testid=tool-bubble]");

    public ILocator Previews => page.GetByTestId("attachment-preview");

    public ILocator ServerStatus => page.GetByTestId("server-status");

    public async Task StartConversationAsync(string profileName)
    {
        await page.GotoAsync("/chat");
        await ServerChoice(profileName).ClickAsync();
    }

    public async Task SendAsync(string text)
    {
        await Input.FillAsync(text);
        await Send.ClickAsync();
    }

    /// <summary>Drops a PNG onto the chat with a real drop event carrying a DataTransfer file.</summary>
    public async Task DropImageAsync(string fileName, byte[] png)
    {
        var transfer = await page.EvaluateHandleAsync(
            """
            ([name, bytes]) => {
                const transfer = new DataTransfer();
                transfer.items.add(new File([new Uint8Array(bytes)], name, { type: "image/png" }));
                return transfer;
            }
            """,
            new object[] { fileName, png.Select(b => (int)b).ToArray() });
        var target = page.Locator("#chat-app");
        await target.DispatchEventAsync("dragenter", new { dataTransfer = transfer });
        await target.DispatchEventAsync("drop", new { dataTransfer = transfer });
    }
}
