namespace ToDoList.Messaging.Tests;

public sealed class SubjectsTests
{
    [Theory]
    [InlineData("events.todo.newitem", "events.todo.newitem")]
    [InlineData("events.todo.*", "events.todo.newitem")]
    [InlineData("*.todo.*", "events.todo.newitem")]
    [InlineData("*", "events")]
    [InlineData("events.>", "events.todo")]
    [InlineData("events.>", "events.todo.newitem")]
    [InlineData("events.*.>", "events.todo.newitem")]
    [InlineData(">", "events")]
    [InlineData(">", "events.todo.newitem")]
    public void Pattern_matches(string pattern, string subject) => Assert.True(Subjects.Matches(pattern, subject));

    [Theory]
    [InlineData("events.todo.newitem", "events.todo.itemsaved")]
    [InlineData("events.todo.newitem", "events.todo.newitem.x")]
    [InlineData("events.todo.newitem", "events.todo")]
    [InlineData("events.todo", "events.todox")]
    [InlineData("events.todo.*", "events.todo")]
    [InlineData("events.todo.*", "events.todo.item.saved")]
    [InlineData("events.todo.*", "commands.todo.delete")]
    [InlineData("*", "events.todo")]
    [InlineData("events.>", "events")]
    [InlineData("events.>", "commands.todo.delete")]
    [InlineData("events.*.>", "events.todo")]
    public void Pattern_does_not_match(string pattern, string subject) => Assert.False(Subjects.Matches(pattern, subject));

    [Theory]
    [InlineData("events.>", "events.todo.newitem", true)]
    [InlineData("events.>", "events.*.newitem", true)]
    [InlineData("events.>", "events.todo.>", true)]
    [InlineData("events.*.newitem", "events.todo.newitem", true)]
    [InlineData("events.todo.newitem", "events.todo.newitem", true)]
    [InlineData("events.todo.newitem", "events.todo.*", false)]
    [InlineData("events.*", "events.todo.newitem", false)]
    [InlineData("events.>", "events", false)]
    [InlineData("events.todo.*", "events.todo.>", false)]
    [InlineData("events.todo.*", "events.*.newitem", false)]
    public void Pattern_covers_another_when_it_matches_all_it_matches(string pattern, string other, bool covers) =>
        Assert.Equal(covers, Subjects.Covers(pattern, other));

    [Theory]
    [InlineData("events.todo.*", "events.*.newitem", true)]
    [InlineData("events.>", "events.todo", true)]
    [InlineData("events.todo.newitem", "events.todo.newitem", true)]
    [InlineData("*.todo", "events.*", true)]
    [InlineData("events.todo.newitem", "events.todo.itemsaved", false)]
    [InlineData("events.>", "events", false)]
    [InlineData("events.*", "events.todo.newitem", false)]
    [InlineData("events.todo.*", "commands.>", false)]
    public void Patterns_overlap_when_a_subject_matches_both(string a, string b, bool overlap)
    {
        Assert.Equal(overlap, Subjects.Overlap(a, b));
        Assert.Equal(overlap, Subjects.Overlap(b, a));
    }

    [Theory]
    [InlineData("events.todo.newitem")]
    [InlineData("a")]
    [InlineData("deadletter.events.todo.newitem")]
    [InlineData("_INBOX.abc.def")]
    public void Concrete_subject_is_valid_to_publish_and_to_subscribe(string subject)
    {
        Subjects.ValidatePublish(subject);
        Subjects.ValidateSubscribe(subject);
        Assert.True(Subjects.IsValidPublish(subject));
    }

    [Theory]
    [InlineData("")]
    [InlineData("events..newitem")]
    [InlineData(".events")]
    [InlineData("events.")]
    [InlineData("events. todo")]
    [InlineData("events.to\tdo")]
    [InlineData("events.todo*")]
    [InlineData("events.>todo")]
    public void Malformed_subject_is_refused_for_publish_and_subscribe(string subject)
    {
        Assert.Throws<ArgumentException>(() => Subjects.ValidatePublish(subject));
        Assert.Throws<ArgumentException>(() => Subjects.ValidateSubscribe(subject));
        Assert.False(Subjects.IsValidPublish(subject));
    }

    [Fact]
    public void Empty_token_is_named_in_the_error()
    {
        var error = Assert.Throws<ArgumentException>(() => Subjects.ValidatePublish("events..newitem"));
        Assert.Contains("token is empty", error.Message);
    }

    [Theory]
    [InlineData("events.todo.*")]
    [InlineData("events.>")]
    [InlineData(">")]
    public void Wildcards_are_for_subscriptions_not_for_publishing(string pattern)
    {
        Subjects.ValidateSubscribe(pattern);
        var error = Assert.Throws<ArgumentException>(() => Subjects.ValidatePublish(pattern));
        Assert.Contains("wildcards are for subscriptions", error.Message);
    }

    [Theory]
    [InlineData("events.>.newitem")]
    [InlineData(">.events")]
    public void Greater_than_must_be_the_last_token(string pattern)
    {
        var error = Assert.Throws<ArgumentException>(() => Subjects.ValidateSubscribe(pattern));
        Assert.Contains("'>' must be the last token", error.Message);
    }

    [Fact]
    public void Subject_longer_than_the_limit_is_refused()
    {
        Subjects.ValidatePublish(new string('a', Subjects.MaxLength));
        Assert.Throws<ArgumentException>(() => Subjects.ValidatePublish(new string('a', Subjects.MaxLength + 1)));
    }

    [Fact]
    public void Dead_letters_of_a_subject_go_under_deadletter() =>
        Assert.Equal("deadletter.events.todo.newitem", Subjects.DeadLetterOf("events.todo.newitem"));

    [Theory]
    [InlineData("events.todo.*", true)]
    [InlineData("events.>", true)]
    [InlineData("events.todo.newitem", false)]
    public void Wildcards_are_recognised(string pattern, bool expected) => Assert.Equal(expected, Subjects.HasWildcards(pattern));
}
