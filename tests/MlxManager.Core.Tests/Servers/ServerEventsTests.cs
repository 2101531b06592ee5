using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;

namespace MlxManager.Core.Tests.Servers;

public sealed class ServerEventsTests
{
    [Fact]
    public void AThrowingHandler_IsLogged_AndTheOtherHandlersStillHearIt()
    {
        var logger = new RecordingLogger<ServerEvents>();
        var events = new ServerEvents(logger);
        var heard = new List<(int, long)>();
        events.LogAdvanced += (_, _) => throw new InvalidOperationException("a broken page");
        events.LogAdvanced += (id, sequence) => heard.Add((id, sequence));

        events.RaiseLogAdvanced(7, 42);

        heard.ShouldBe([(7, 42L)]);
        logger.Entries.ShouldHaveSingleItem().Exception!.Message.ShouldBe("a broken page");
    }

    [Fact]
    public void Version_GrowsWithEveryChange()
    {
        var events = new ServerEvents(new RecordingLogger<ServerEvents>());

        var first = events.NextVersion();
        var second = events.NextVersion();

        second.ShouldBeGreaterThan(first);
        events.Version.ShouldBe(second);
    }
}
