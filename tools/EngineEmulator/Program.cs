Console.Error.WriteLine("EngineEmulator: not built yet");
return 2;
