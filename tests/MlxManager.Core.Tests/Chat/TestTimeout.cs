namespace MlxManager.Core.Tests.Chat;

/// <summary>A cancellation token that fires after a generous delay, so a broken test fails instead of hanging.</summary>
internal static class TestTimeout
{
    public static CancellationToken Token => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
