ÿï»¿SELECT 1;
