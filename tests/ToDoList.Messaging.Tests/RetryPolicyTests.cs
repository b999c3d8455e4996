namespace ToDoList.Messaging.Tests;

public sealed class RetryPolicyTests
{
    [Fact]
    public void Defaults_are_as_documented()
    {
        var policy = new RetryPolicy();

        Assert.Equal(5, policy.MaxDeliver);
        Assert.Equal(TimeSpan.FromMilliseconds(200), policy.InitialDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), policy.MaxDelay);
        Assert.Equal(0.2, policy.Jitter);
    }

    [Fact]
    public void Wait_doubles_after_each_failed_try()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), Jitter = 0 };

        Assert.Equal(TimeSpan.FromMilliseconds(100), policy.DelayAfter(1));
        Assert.Equal(TimeSpan.FromMilliseconds(200), policy.DelayAfter(2));
        Assert.Equal(TimeSpan.FromMilliseconds(400), policy.DelayAfter(3));
        Assert.Equal(TimeSpan.FromMilliseconds(800), policy.DelayAfter(4));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(int.MaxValue)]
    public void Wait_is_capped_at_MaxDelay(int attempt)
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), Jitter = 0 };

        Assert.Equal(TimeSpan.FromSeconds(1), policy.DelayAfter(attempt));
    }

    [Fact]
    public void Jitter_spreads_the_wait_within_its_fraction()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(1000), Jitter = 0.2 };

        var waits = Enumerable.Range(0, 1000).Select(_ => policy.DelayAfter(1).TotalMilliseconds).ToList();

        Assert.All(waits, w => Assert.InRange(w, 800, 1200));
        Assert.True(waits.Distinct().Count() > 100, "the waits are not spread");
        Assert.True(waits.Min() < 900 && waits.Max() > 1100, $"jitter spans only {waits.Min():0}-{waits.Max():0} ms");
    }

    [Fact]
    public void Jitter_never_takes_the_wait_past_MaxDelay()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(2), Jitter = 0.5 };

        var waits = Enumerable.Range(0, 1000).Select(_ => policy.DelayAfter(10)).ToList();

        Assert.All(waits, w => Assert.InRange(w, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
    }
}
