Console.Error.WriteLine("Bench: not built yet");
return 2;
